"""Reporting: the daily digest, SLA clocks and reminders, spike alerts, staffing and the chart.

Read models over the store; the scheduler (bot.scheduler) only decides when they run.
"""
