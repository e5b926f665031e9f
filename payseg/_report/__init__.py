"""Private pieces of :mod:`payseg.report`: document model, sections, renderers."""
