-- Houses are looked up by their parent and the beginning of their number
-- as typed, in any case («7а» finds «7А»).
DROP INDEX fias_houses_parent;
CREATE INDEX fias_houses_parent ON fias_houses (parent_id, lower(house_num) text_pattern_ops);
