"""Care for veterans: service recipients, life events opening cases, party-member pairing, campaigns
(holiday visits, honour plaques, tomb sweeping, the six deliveries), help requests matched to volunteers,
complaints. The teams act here as the service centres' "arms"."""
