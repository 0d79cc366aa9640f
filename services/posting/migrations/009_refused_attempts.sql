-- Attempts Xero refused with 429 before acting on them. A sent batch's attempt is counted
-- when it is marked in flight (the count doubles as the in-flight fence, so it never goes
-- down); these are subtracted again before a day is given up for its attempts.
CREATE TABLE refused_attempts (
    posting_id bigint PRIMARY KEY,
    refused integer NOT NULL
);
