"""What the Space (app.py) needs: its event handlers, answers as HTML, serving, feedback."""
