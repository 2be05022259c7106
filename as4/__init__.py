"""eDelivery AS4 access point: ebMS3 message model and codec, WS-Security per profile, message handler."""
