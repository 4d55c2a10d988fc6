"""Notices' text as short dense vectors, so that "similar to what you read" is a matrix product.

Japanese has no spaces between words: character n-grams (2–3 characters, within word-like runs)
need no tokenizer and catch 除雪, 避難所 and their compounds. TF-IDF weighs them, then a truncated
SVD (latent semantic analysis) folds the tens of thousands of n-grams into ``dimensions``
numbers, and each vector is scaled to unit length: the dot product of two is their cosine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

DIMENSIONS = 64
# Under this many texts the SVD has too little to fold: the vectors stay empty (zero), and the
# text feature adds nothing until the city has published more.
MIN_TEXTS = 8


@dataclass
class TextModel:
    vectorizer: TfidfVectorizer | None
    svd: TruncatedSVD | None
    dimensions: int

    @classmethod
    def fit(cls, texts: Sequence[str], *, dimensions: int = DIMENSIONS) -> TextModel:
        """Learn the n-grams and the folding from ``texts`` (the notices of a window)."""
        usable = [text for text in texts if text.strip()]
        if len(usable) < MIN_TEXTS:
            return cls(vectorizer=None, svd=None, dimensions=dimensions)
        vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 3), min_df=2, sublinear_tf=True, max_features=50_000
        )
        try:
            counts = vectorizer.fit_transform(usable)
        except ValueError:  # every n-gram below min_df
            return cls(vectorizer=None, svd=None, dimensions=dimensions)
        folded = min(dimensions, counts.shape[1] - 1, len(usable) - 1)
        if folded < 1:
            return cls(vectorizer=None, svd=None, dimensions=dimensions)
        # Texts that differ in nothing the n-grams keep have no variance: scikit-learn then
        # divides by zero for the explained-variance ratio, which nothing here reads.
        with np.errstate(divide="ignore", invalid="ignore"):
            svd = TruncatedSVD(n_components=folded, random_state=0).fit(counts)
        return cls(vectorizer=vectorizer, svd=svd, dimensions=dimensions)

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One unit-length row of ``dimensions`` numbers per text (zeros when nothing is known
        of it), padded so that vectors of every model version have one width."""
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if self.vectorizer is None or self.svd is None or not texts:
            return vectors
        folded = self.svd.transform(self.vectorizer.transform(list(texts)))
        vectors[:, : folded.shape[1]] = normalize(folded).astype(np.float32)
        return vectors


def mean_of_rows(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    """The unit-length mean of some rows (a resident's profile from what they read), or zeros."""
    if len(vectors) == 0:
        return np.zeros(vectors.shape[1], dtype=np.float32)
    total = vectors.sum(axis=0)
    length = float(np.linalg.norm(total))
    return (total / length).astype(np.float32) if length else total.astype(np.float32)
