"""`python -m kubesim serve ...`"""

from kubesim.cli import main

if __name__ == "__main__":
    main()
