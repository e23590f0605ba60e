"""Backup, restore and verify: portable, versioned archives of a vector store or of a whole tenant."""
