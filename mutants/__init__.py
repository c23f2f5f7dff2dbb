"""The generated catalogue of known-bad variants, one folder per assignment (`gradgrade mutate`)."""
