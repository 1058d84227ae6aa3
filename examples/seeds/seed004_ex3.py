"""Seed 004, ex3: the article's code with only the imports changed to netknit."""

import netknit as keras
from netknit import layers

def create_image_preprocessing(input_shape=(64, 64, 3)):
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(32, 3, activation='relu')(inputs)
    x = layers.MaxPool2D(2)(x)
    x = layers.Flatten()(x)
    return keras.Model(inputs=inputs, outputs=x)

def create_tabular_preprocessing(input_shape=(10,)):
  inputs = keras.Input(shape=input_shape)
  x = layers.Dense(128, activation='relu')(inputs)
  return keras.Model(inputs=inputs, outputs=x)


# Create input layers
image_input = keras.Input(shape=(64,64,3))
tabular_input = keras.Input(shape=(10,))

# Create the preprocessers
image_preprocessor = create_image_preprocessing()
tabular_preprocessor = create_tabular_preprocessing()

# Pass through preprocessers
processed_image = image_preprocessor(image_input)
processed_tabular = tabular_preprocessor(tabular_input)


# Define the target feature size for mapping
target_feature_size = 512

# Add Dense mapping layers
image_mapped = layers.Dense(target_feature_size, activation='relu')(processed_image)
tabular_mapped = layers.Dense(target_feature_size, activation='relu')(processed_tabular)

# Concatenate the mapped features
concatenated_features = layers.concatenate([image_mapped, tabular_mapped])

# Build the final model
output = layers.Dense(1, activation='sigmoid')(concatenated_features)
combined_model = keras.Model(inputs=[image_input, tabular_input], outputs=output)
combined_model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
combined_model.summary()
