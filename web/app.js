// dashboard (being written)
