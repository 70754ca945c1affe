"""Reports: the daily and weekly 舆情 reports — gathered, charted, rendered and sent."""
