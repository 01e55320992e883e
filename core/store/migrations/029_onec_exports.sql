-- Documents sent to 1C (type=sale, mode=query), with the version 1C
-- confirmed (mode=success): a document goes again when it changed since.
CREATE TABLE onec_exports (
    entity      text NOT NULL,
    id          uuid NOT NULL,
    version     bigint NOT NULL,
    exported_at timestamptz NOT NULL,
    PRIMARY KEY (entity, id)
);
