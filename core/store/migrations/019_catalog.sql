-- The catalog: product groups, products (goods, with stock), services, and
-- price books with a list price per product or service.
CREATE TABLE product_groups (
    id           uuid PRIMARY KEY,
    name         text NOT NULL,
    parent_id    uuid REFERENCES product_groups (id),
    description  text NOT NULL DEFAULT '',
    external_ids jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    deleted_at   timestamptz,
    version      bigint NOT NULL
);
CREATE INDEX product_groups_created ON product_groups (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX product_groups_name ON product_groups (name, id) WHERE deleted_at IS NULL;

CREATE TABLE products (
    id                  uuid PRIMARY KEY,
    name                text NOT NULL,
    sku                 text NOT NULL DEFAULT '',
    group_id            uuid REFERENCES product_groups (id),
    unit                text NOT NULL DEFAULT '',
    unit_code           text NOT NULL DEFAULT '',
    vat_rate            text NOT NULL DEFAULT '',
    price               numeric(17, 2),
    currency            text NOT NULL DEFAULT 'RUB',
    active              boolean NOT NULL DEFAULT true,
    description         text NOT NULL DEFAULT '',
    external_ids        jsonb NOT NULL DEFAULT '{}',
    stock_quantity      numeric(13, 3) NOT NULL DEFAULT 0,
    manufacturer        text NOT NULL DEFAULT '',
    country_of_origin   text NOT NULL DEFAULT '',
    country_code        text NOT NULL DEFAULT '',
    customs_declaration text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    deleted_at          timestamptz,
    version             bigint NOT NULL
);
CREATE INDEX products_created ON products (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX products_updated ON products (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX products_name ON products (name, id) WHERE deleted_at IS NULL;
CREATE INDEX products_sku ON products (sku) WHERE sku <> '' AND deleted_at IS NULL;
CREATE INDEX products_group ON products (group_id) WHERE group_id IS NOT NULL;
CREATE INDEX products_external_ids ON products USING gin (external_ids jsonb_path_ops);

CREATE TABLE services (
    id           uuid PRIMARY KEY,
    name         text NOT NULL,
    sku          text NOT NULL DEFAULT '',
    group_id     uuid REFERENCES product_groups (id),
    unit         text NOT NULL DEFAULT '',
    unit_code    text NOT NULL DEFAULT '',
    vat_rate     text NOT NULL DEFAULT '',
    price        numeric(17, 2),
    currency     text NOT NULL DEFAULT 'RUB',
    active       boolean NOT NULL DEFAULT true,
    description  text NOT NULL DEFAULT '',
    external_ids jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    deleted_at   timestamptz,
    version      bigint NOT NULL
);
CREATE INDEX services_created ON services (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX services_updated ON services (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX services_name ON services (name, id) WHERE deleted_at IS NULL;
CREATE INDEX services_sku ON services (sku) WHERE sku <> '' AND deleted_at IS NULL;
CREATE INDEX services_group ON services (group_id) WHERE group_id IS NOT NULL;
CREATE INDEX services_external_ids ON services USING gin (external_ids jsonb_path_ops);

CREATE TABLE price_books (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    currency    text NOT NULL,
    active      boolean NOT NULL DEFAULT true,
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz,
    version     bigint NOT NULL
);
CREATE INDEX price_books_created ON price_books (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX price_books_name ON price_books (name, id) WHERE deleted_at IS NULL;

CREATE TABLE prices (
    price_book_id uuid NOT NULL REFERENCES price_books (id),
    item_id       uuid NOT NULL, -- a product or a service
    product_id    uuid REFERENCES products (id),
    service_id    uuid REFERENCES services (id),
    price         numeric(17, 2) NOT NULL CHECK (price >= 0),
    version       bigint NOT NULL,
    PRIMARY KEY (price_book_id, item_id),
    CHECK ((product_id IS NULL) <> (service_id IS NULL)),
    CHECK (item_id = coalesce(product_id, service_id))
);
