"""ldn-site: an evidence review of low-dose naltrexone for fibromyalgia, and the generator that builds it."""

__version__ = "0.1.0"
