"""Seed 004, ex1: the article's code with only the imports changed to netknit."""

import netknit as keras
from netknit import layers

# Define the preprocessing layers
def create_image_preprocessing(input_shape=(64, 64, 3), target_features=256):
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(32, 3, activation='relu')(inputs)
    x = layers.MaxPool2D(2)(x)
    x = layers.Conv2D(64, 3, activation='relu')(x)
    x = layers.MaxPool2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(target_features, activation='relu')(x)
    return keras.Model(inputs=inputs, outputs=x)

def create_tabular_preprocessing(input_shape=(10,), target_features=256):
  inputs = keras.Input(shape=input_shape)
  x = layers.Dense(128, activation='relu')(inputs)
  x = layers.Dense(target_features, activation='relu')(x)
  return keras.Model(inputs=inputs, outputs=x)

# Create model inputs
image_input_shape = (64, 64, 3)
tabular_input_shape = (10,)

# Create preprocessors
image_preprocessor = create_image_preprocessing(image_input_shape)
tabular_preprocessor = create_tabular_preprocessing(tabular_input_shape)

# Dummy inputs
image_input = keras.Input(shape=image_input_shape)
tabular_input = keras.Input(shape=tabular_input_shape)

# Pass the inputs through the preprocessor models
processed_image = image_preprocessor(image_input)
processed_tabular = tabular_preprocessor(tabular_input)

# Concatenate the processed outputs
concatenated_features = layers.concatenate([processed_image, processed_tabular])


# Build and compile the final model
output = layers.Dense(1, activation='sigmoid')(concatenated_features)
combined_model = keras.Model(inputs=[image_input, tabular_input], outputs=output)
combined_model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
combined_model.summary()
