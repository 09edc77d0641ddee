"""Views: typed results in, text out. Commands pick a view; views never decide."""
