"""Pictures, with no model and no data set: any input -> the model's tensor, photos, pens."""
