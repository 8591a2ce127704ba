"""Spiking convolutional classifiers for Fashion-MNIST, with every neuron type and an ANN twin."""
