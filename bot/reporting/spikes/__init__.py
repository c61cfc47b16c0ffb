"""Spikes: the detector (and flood gate), the monitor that alerts, and the alert text."""
