"""Seed 002, ex1: the article's code with only the imports changed to netknit."""

import netknit as keras
from netknit import layers

model = keras.Sequential()
model.add(layers.Dense(64, activation='relu', input_shape=(784,))) # Input layer with 784 features
model.add(layers.Dense(10, activation='softmax')) # Output layer with 10 classes

model.compile(optimizer='adam',
              loss='categorical_crossentropy',
              metrics=['accuracy'])

model.summary() # Display model architecture
