"""Seed 001, ex1: the article's code with only the imports changed to netknit."""

import netknit as keras
from netknit.layers import Dense, Input

# Model 1
model1 = keras.Sequential([
    Dense(64, activation='relu', input_shape=(10,)),
    Dense(32, activation='relu')
])

# Model 2
model2 = keras.Sequential([
    Dense(16, activation='relu', input_shape=(32,)),
    Dense(1, activation='sigmoid')
])

# Functional API merging (requires identical output/input shapes)
input_tensor = Input(shape=(10,))
x = model1(input_tensor)
output_tensor = model2(x)

merged_model = keras.Model(inputs=input_tensor, outputs=output_tensor)
merged_model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
merged_model.summary()
