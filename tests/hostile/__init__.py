"""Issue 20: recipes, servers and local users that try to break renewer."""
