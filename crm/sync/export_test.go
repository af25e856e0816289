package sync

// OpenSQLite opens a SQLite file as the engine does (one connection, WAL,
// the statement cache), for the River floor benchmark in package sync_test.
var OpenSQLite = openSQLite
