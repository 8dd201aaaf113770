"""Machine-learning models of the recommender (TensorFlow is imported lazily, only inside load())."""
