"""The contract builder and the Contract base class."""
