"""Seed 000, ex1: the article's code with only the imports changed to netknit."""

import netknit as keras
from netknit.layers import Input, Dense, LSTM, Concatenate
from netknit.models import Model

# Sequential Model for Time-Series Data
time_series_input = Input(shape=(10, 1))  # Example: 10 time steps, 1 feature
lstm_out = LSTM(32)(time_series_input)

# Dense Layers for Static Data
static_input = Input(shape=(5,))  # Example: 5 static features
dense_1 = Dense(16, activation='relu')(static_input)
dense_2 = Dense(8, activation='relu')(dense_1)

# Concatenate the outputs
merged = Concatenate()([lstm_out, dense_2])

# Output Layer
output = Dense(1, activation='sigmoid')(merged)  # Example: Binary classification

# Create the Model
model = Model(inputs=[time_series_input, static_input], outputs=output)

model.summary()
