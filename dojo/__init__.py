"""The grading harness: a pytest plugin that grades a solutions folder kata by kata."""
