"""Seed 002, ex2: the article's code with only the imports changed to netknit."""

import netknit as keras
from netknit import layers

model = keras.Sequential()
model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1))) # Convolution layer with 32 filters
model.add(layers.MaxPooling2D((2, 2))) # Pooling layer
model.add(layers.Conv2D(64, (3, 3), activation='relu')) # Second convolution layer
model.add(layers.MaxPooling2D((2, 2))) # Another pooling layer
model.add(layers.Flatten()) # Flatten output to feed into a dense layer
model.add(layers.Dense(10, activation='softmax')) # Output layer

model.compile(optimizer='adam',
              loss='categorical_crossentropy',
              metrics=['accuracy'])

model.summary()
