"""Seed 001, ex3: the article's code with only the imports changed to netknit."""

import netknit as keras
from netknit.layers import Dense, Input

# Model 1 (Outputting a higher-dimensional vector)
model1 = keras.Sequential([
    Dense(128, activation='relu', input_shape=(10,)),
    Dense(64, activation='relu')
])

# Model 2 (Expecting a lower-dimensional input)
model2 = keras.Sequential([
    Dense(16, activation='relu', input_shape=(32,)),
    Dense(1, activation='sigmoid')
])

# Functional API merging with a Dense layer for dimensionality adjustment
input_tensor = Input(shape=(10,))
x = model1(input_tensor) # Output shape (None, 64)
x = Dense(32, activation='relu')(x) # Reduce dimensions to match model2's input
output_tensor = model2(x)

merged_model = keras.Model(inputs=input_tensor, outputs=output_tensor)
merged_model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
merged_model.summary()
