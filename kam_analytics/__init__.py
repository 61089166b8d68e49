"""KAM Analytics: service value, giveaways, retention and KAM bonus from CRM/ERP exports."""

__version__ = "0.1.0"
