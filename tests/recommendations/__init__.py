"""Tests of the recommender and its offline evaluation."""
