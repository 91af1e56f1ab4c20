"""Importing people from a CSV file: reading and checking the file (reading), the column
mapping and options (mapping), a row as an edit (rows), the job's action (action) and the
services the UI, the API and the command share (services)."""
