"""What each provider's API is sent for a message, as utopia-php/messaging (the library Appwrite 1.9.6 delivers with)
sends it: one module per family (email, sms, push), and SMTP (smtp.py), which delivers through engine/mail.py."""
