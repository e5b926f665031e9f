def map_columns(*a, **k):
    raise NotImplementedError
clean_payments = clean_bills = clean_customers = map_columns
