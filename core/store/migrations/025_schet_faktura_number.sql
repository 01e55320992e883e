-- The счёт-фактура has a sequence of its own (documents-and-tax.md §9),
-- allocated with the realization like every document number (unique and
-- gapless per year by the counter); realizations made before keep the
-- realization's number.
ALTER TABLE realizations ADD COLUMN schet_faktura_number text NOT NULL DEFAULT '';
UPDATE realizations SET schet_faktura_number = number;
