"""Seed 004, ex2: the article's code with only the imports changed to netknit."""

import netknit as keras
from netknit import layers

# Define simple models with differing output feature sizes
def create_image_model(input_shape=(64, 64, 3), hidden_dim=256):
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(32, 3, activation='relu')(inputs)
    x = layers.MaxPool2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(hidden_dim, activation='relu')(x)
    return keras.Model(inputs=inputs, outputs=x)

def create_tabular_model(input_shape=(10,), hidden_dim=128):
    inputs = keras.Input(shape=input_shape)
    x = layers.Dense(hidden_dim, activation='relu')(inputs)
    return keras.Model(inputs=inputs, outputs=x)


# Define the target feature size for mapping
target_feature_size = 512

# Create input layers
image_input = keras.Input(shape=(64,64,3))
tabular_input = keras.Input(shape=(10,))

# Create the models
image_model = create_image_model()
tabular_model = create_tabular_model()


# Get the intermediate layer outputs
image_features = image_model(image_input)
tabular_features = tabular_model(tabular_input)

# Add Dense mapping layers
image_mapped = layers.Dense(target_feature_size, activation='relu')(image_features)
tabular_mapped = layers.Dense(target_feature_size, activation='relu')(tabular_features)


# Concatenate the mapped features
concatenated_features = layers.concatenate([image_mapped, tabular_mapped])


# Build the final model
output = layers.Dense(1, activation='sigmoid')(concatenated_features)
combined_model = keras.Model(inputs=[image_input, tabular_input], outputs=output)
combined_model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
combined_model.summary()
