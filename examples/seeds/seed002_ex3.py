"""Seed 002, ex3: the article's code with only the imports changed to netknit."""

import netknit as keras
from netknit import layers

model = keras.Sequential()
model.add(layers.LSTM(64, input_shape=(None, 10))) # LSTM layer with 64 units
model.add(layers.Dense(1, activation='sigmoid')) # Output layer

model.compile(optimizer='adam',
             loss='binary_crossentropy',
             metrics=['accuracy'])

model.summary()
