// The letter's "Print or save as PDF" button: the browser's print dialog saves PDFs too.
const button = document.getElementById("print-letter");
if (button) button.addEventListener("click", () => window.print());
