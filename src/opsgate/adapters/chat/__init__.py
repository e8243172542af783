"""Chat adapters: each turns platform events into Inbound and Messages into platform calls."""
