"""cnnviz: see how convolutional neural networks work.

The library is plain functions on numpy arrays and Keras models; it imports
and tests without Streamlit. TensorFlow is imported only by the modules that
need it (``models``, ``activations``), never by this package's ``__init__``.
"""
