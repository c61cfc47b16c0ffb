"""SLA clocks: the one warn/due rule with its targets, business hours, and the reminder monitor."""
