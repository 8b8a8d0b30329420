"""A job: one function, run once."""

from stepline import PythonJob
from steps import check_flag


def main():
    job = PythonJob(function=check_flag)
    job.execute()
    return job


if __name__ == "__main__":
    main()
