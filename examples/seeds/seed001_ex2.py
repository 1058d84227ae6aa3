"""Seed 001, ex2: the article's code with only the imports changed to netknit."""

import netknit as keras
from netknit.layers import Dense, Input, Reshape

# Model 1 (CNN-like structure, outputting a 2D tensor)
model1 = keras.Sequential([
    Dense(64, activation='relu', input_shape=(10,)),
    Dense(8, activation='relu')
])

# Model 2 (Expecting a 1D input)
model2 = keras.Sequential([
    Dense(1, activation='sigmoid', input_shape=(8,))
])

# Functional API merging with reshaping
input_tensor = Input(shape=(10,))
x = model1(input_tensor)  # Output shape (None, 8)
x = Reshape((8,))(x)    # Reshape to (None, 8) to match model2's input
output_tensor = model2(x)

merged_model = keras.Model(inputs=input_tensor, outputs=output_tensor)
merged_model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
merged_model.summary()
