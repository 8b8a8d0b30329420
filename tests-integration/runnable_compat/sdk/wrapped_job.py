"""runnable's older job form: `Job(name=..., task=...)` around a task."""

from stepline import Catalog, Job, ShellTask


def main():
    write = ShellTask(name="write", command="echo kept > kept.txt", catalog=Catalog(put=["kept.txt"]))
    job = Job(name="keeper", task=write)
    job.execute()
    return job


if __name__ == "__main__":
    main()
