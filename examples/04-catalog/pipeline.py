"""The SDK form of pipeline.yaml: files move between steps through the catalog.

Run it from this folder:  stepline execute pipeline:pipeline      (or: python pipeline.py)
"""

import steps
from stepline import Catalog, Pipeline, PythonTask, ShellTask

write_data = ShellTask(
    "write data",
    command='''\
mkdir -p data
printf 'id,value\\n1,10\\n2,32\\n' > data/numbers.csv
echo "scratch notes" > notes.txt
''',
    catalog=Catalog(put=["data/numbers.csv"]),
)
record_notes = ShellTask("record notes", command='echo "notes seen"',
                         catalog=Catalog(put=["notes.txt"], store_copy=False))
read_data = ShellTask(
    "read data",
    command='''\
rm data/numbers.csv                 # prove the next step gets it back from the catalog
echo "removed the local copy of data/numbers.csv"
''',
)
total = PythonTask("sum", function=steps.total, catalog=Catalog(get=["data/*.csv"]), returns=["total"])

pipeline = Pipeline(steps=[write_data, record_notes, read_data, total])

if __name__ == "__main__":
    pipeline.execute()
