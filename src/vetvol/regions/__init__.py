"""Regions: Guangdong's administrative tree (NBS division codes), the veterans service centre or station of
each node, and the liaison points (rooms) that volunteer teams hold inside them."""
