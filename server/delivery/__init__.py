"""Phone and delivery orders on the server: slots, allotments, bookings, customers (issue 13)."""
