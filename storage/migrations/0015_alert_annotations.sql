-- What an alert says besides its value and threshold, for rules whose summary needs more: an anomaly rule's usual
-- value for the hour, its spread and score (alerts/anomaly.py). Kept on the row so a summary can be written again
-- in another language (i18n/alert_text.py) and receivers get the figures, not only the text.
ALTER TABLE alerts ADD COLUMN annotations jsonb NOT NULL DEFAULT '{}';
