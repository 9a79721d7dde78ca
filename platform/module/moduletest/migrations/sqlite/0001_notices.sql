CREATE TABLE notices (
    id         text PRIMARY KEY,
    text       text NOT NULL,
    posted_by  text NOT NULL,
    posted_at  timestamp NOT NULL
);
