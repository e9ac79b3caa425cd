"""Has no class named Value."""
class Valu:
    pass
