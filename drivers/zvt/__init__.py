"""ZVT card terminal driver (the ECR side): transports, codec, protocol, kiosk commands.

Layers, bottom up: ``transport_serial`` / ``transport_tcp`` move APDUs (one ``Link`` interface),
``codec`` turns bytes into named fields and back, ``protocol`` runs one command exchange
(acknowledgements, T3/T4, receipts), ``commands`` builds the kiosk's requests, ``results``
maps result codes, and ``terminal.ZvtTerminal`` implements ``kiosk.devices.CardTerminal``.
"""
